"""Plain data shared by every stage: ids, settings, media facts, ladder, plan, jobs and runs, keys as values, the manifest, errors."""
