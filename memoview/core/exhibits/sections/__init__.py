"""Section groups of the exhibit story (one mixin per group)."""
