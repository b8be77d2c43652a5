"""The settings pane: one page per tab, the rules that check a profile, the dialog around them."""
