"""Inputs: road files to a compiled graph, and checked stations, zones, officers and lists."""
