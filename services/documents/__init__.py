"""Documents for people: PDF (A4, Cyrillic) and XLSX files built from read models."""
