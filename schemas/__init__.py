"""Dataset specifications and pandera schemas of the fundwatch data contract."""
