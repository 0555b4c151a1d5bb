"""The Docker-free local stack (`make dev`): never deployed, kept small and faithful."""
