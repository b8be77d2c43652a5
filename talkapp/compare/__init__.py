"""Model comparison: one utterance through several configurations, timed, counted and priced.
Qt-free; the CLI and the GUI's Compare view are thin clients of it."""
