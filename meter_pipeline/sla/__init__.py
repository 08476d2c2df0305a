"""SLA uptime and service credits (SPEC §7): probe minutes, excused intervals, uptime, credits
and the credit ledger. Pure logic: frames and plain values in, sorted frames out."""
