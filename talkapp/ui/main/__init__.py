"""The main window and its parts: header, talk panel, transcript, banners, approvals."""
