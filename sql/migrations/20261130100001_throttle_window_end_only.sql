-- Each throttle row's window is known by its end alone (every key kind has its own length, see
-- 20261124140001); the start was still written but read by nothing.
ALTER TABLE login_throttle DROP COLUMN window_start;
