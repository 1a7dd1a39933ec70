"""Briefings: the folium map, its layers, offline assets and the PNG, PDF and HTML exports."""
