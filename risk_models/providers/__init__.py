"""ICT third-party providers and contracts: files, LEI checks, provider summaries."""
