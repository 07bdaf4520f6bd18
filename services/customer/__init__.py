"""Customer data management: profiles, contact points, consent, interactions, merge and erasure."""
