-- refresh_derived recomputes estimates and every derived view after an
-- import or a settings change. CONCURRENTLY keeps the views readable
-- meanwhile.
CREATE FUNCTION logic.refresh_derived() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM logic.data_changed();
  PERFORM logic.refresh_estimates();
  REFRESH MATERIALIZED VIEW CONCURRENTLY logic.point_small_area;
  REFRESH MATERIALIZED VIEW CONCURRENTLY logic.postcode_access;
  REFRESH MATERIALIZED VIEW CONCURRENTLY logic.small_area_stats;
  REFRESH MATERIALIZED VIEW CONCURRENTLY api.neighbourhood_stats;
  REFRESH MATERIALIZED VIEW CONCURRENTLY api.neighbourhood_counts;
  REFRESH MATERIALIZED VIEW CONCURRENTLY api.neighbourhood_demand;
  REFRESH MATERIALIZED VIEW CONCURRENTLY api.borough_stats;
  REFRESH MATERIALIZED VIEW CONCURRENTLY api.neighbourhood_indicators;
END $$;

-- JIT compilation costs more than these short statements take.
ALTER FUNCTION logic.refresh_derived() SET jit = off;
