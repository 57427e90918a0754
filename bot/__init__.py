"""Samvad: the gateway between voters' messaging channels, the Rasa assistant and human agents."""
