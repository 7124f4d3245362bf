"""Review cadence and the DORA register of information (EBA xBRL-CSV report package and XLSX)."""
