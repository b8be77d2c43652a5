"""The desktop app's widgets (PySide6 only: no asyncio, no sounddevice, no protocol).

One widget per module; `main.window.MainWindow` puts them together and is the only one that
talks to the `Controller`. Colours come from the palette (light and dark follow the OS).
"""
