"""The whole thread boundary: the background asyncio loop and the crossings into and out of it."""
