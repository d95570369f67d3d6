"""Example custom features for MDM (flights-style data)."""
