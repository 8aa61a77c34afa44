"""The use cases: what members, support and coordinators can do, and their policies."""
