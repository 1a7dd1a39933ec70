"""The engine: travel times, unit placement, zone metrics, one coverage run and its figures."""
