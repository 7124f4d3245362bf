"""ICT third-party providers and contracts: models, import with row errors, LEI checks, supply chain."""
