"""The page `wuwb serve` sends to browsers, and its player script (package data)."""
