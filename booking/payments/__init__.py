"""Deposits: the payment record of a booking, the Stripe gateway, the webhook, refunds and
reconciliation."""
