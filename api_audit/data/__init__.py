"""Data shipped inside the package (the council register); see README.md here."""
