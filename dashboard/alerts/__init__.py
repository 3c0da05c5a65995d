"""``/alerts``: the alert history (预警历史) of the duty officers and leaders."""
