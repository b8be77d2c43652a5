"""Conversations that last: the SQLite store, the recorder of engine events, spend and budget.
Qt-free; the history panel lives in talkapp/ui/main/history_panel.py."""
