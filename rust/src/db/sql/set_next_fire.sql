-- ($1 schedule, $2 its next fire, whose row create_fire made in the same transaction)
UPDATE anclax.schedules SET next_fire_at = $2, updated_at = now() WHERE id = $1
