"""Sans-I/O Realtime protocol: normalized events and commands, one module per dialect.

Imports only the standard library (a test enforces it): no sockets, threads, asyncio or numpy.
"""
