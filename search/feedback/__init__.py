"""What searchers tell us about results: searches recorded (without their image), votes,
clicks with their position, conversions, and the business figures computed from them."""
