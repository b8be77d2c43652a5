"""Tools the model may use during a conversation.

`registry`: function tools TalkApp runs itself (a declaration the session sends, plus an async
implementation); `builtin`: the safe ones every desktop user gets (date and time, a calculator,
the clipboard once allowed); `mcp`: remote MCP servers the service calls for us (GA only);
`toolbox`: all of it for one session. Qt-free and socket-free: the session's `ToolRunner`
runs calls, the UI supplies the clipboard reader.
"""
