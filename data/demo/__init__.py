"""The synthetic demo district of 奉化区 and its generator."""
