"""Record semantics and stores: what a sync's saves, updates and deletes do to the records it owns."""
