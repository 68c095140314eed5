"""The languages whose calendar words and place names Satchel reads (CLDR via Babel)."""

# The languages of the people whose data Satchel has been tried on, and their
# neighbours; more cost only a few thousand words.
LOCALES = ("en", "fr", "it", "de", "es", "pt", "nl", "sv", "da", "nb", "pl", "ca")
