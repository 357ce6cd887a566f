"""Pure rules of the domain (no store, no files): eligibility, device service
life, privacy masks, home visits (outcomes, services, the visit key)."""
