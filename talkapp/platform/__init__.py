"""What TalkApp asks of Windows and macOS through their C APIs (ctypes): the timer resolution,
thread priorities, App Nap. Standard library only, no Qt, nothing of ours.

Every function takes the platform (`sys.platform`) and the native library as inputs, defaulting
to this system's, so the Windows and macOS branches run in tests with fakes of the system calls
(those systems do not run where the tests do); on any other platform each is a no-op that says
so in its return value.
"""
