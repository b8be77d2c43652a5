"""The Compare view: configurations, utterance, table, chart, and the window around them."""
