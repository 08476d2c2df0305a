"""SLA uptime and service credits (docs/rules.md#8-uptime-and-sla-credits): probe minutes, excused
intervals, uptime, credits and the credit ledger. Pure logic: frames and plain values in, sorted
frames out."""
