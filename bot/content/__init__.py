"""The content team's tools: lint the Rasa content, report NLU quality, reload the model, review fallbacks.

- ``text``: normalization shared by the lint and the review export
- ``sources``: the content files read with the line of everything in them
- ``lint``: ``make check`` (thresholds in ``content_rules.yml``)
- ``report``: the cross-validation report of ``make test-content``
- ``reload``: ``make reload`` (``PUT /model`` on the running Rasa server)
- ``review``: voter messages the assistant handled badly, recorded by an action and exported as NLU YAML
- ``cli``: ``python -m bot review export``
"""
