"""Outside data brought in (OCDS contract notices) and tied to the catalogue, with provenance."""
