"""The stores: runs and jobs (:mod:`.jobs`) and wrapped data keys (:mod:`.keys`), in SQLite or
PostgreSQL (:mod:`.db`). Engines and the pipeline record the truth here; the key service reads it."""
