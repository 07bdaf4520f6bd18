"""Code the services share: the public event contract (`events`) and plumbing (`platform`)."""
