"""Central and dock views of the main window."""
