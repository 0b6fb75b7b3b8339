"""Where records go (stdout, JSONL file, MQTT, webhook, isolated by a SinkSet) and the evidence
clips written around alerts. Build sinks from ``--sink`` strings with
:func:`keyguard.alerts.spec.parse_sink`.
"""
