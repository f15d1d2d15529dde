"""The generator's golden record: sample specs, their generated packages, typing fixtures."""
