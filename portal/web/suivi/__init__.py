"""A groupement's follow-up of activations, for its coordinators and support."""
