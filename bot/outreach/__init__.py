"""Outreach: campaigns sent first to voters who consented, paced, outside quiet hours and silence periods."""
