"""Language tools shared by every layer: detection, folding, per-language stemming for the keyword
index, stop words. Imports nothing else of Satchel."""
