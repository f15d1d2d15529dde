SELECT status FROM anclax.tasks WHERE id = $1
