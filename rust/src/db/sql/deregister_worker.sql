DELETE FROM anclax.workers WHERE id = $1
