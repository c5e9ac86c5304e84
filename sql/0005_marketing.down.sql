DROP TABLE IF EXISTS marketing_scheduler_state;
DROP TABLE IF EXISTS marketing_posts;
DROP TABLE IF EXISTS marketing_promos;
DROP TABLE IF EXISTS marketing_clicks;
