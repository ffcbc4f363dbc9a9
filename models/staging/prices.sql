-- ---
-- description: Closes of every ticker and of the S&P 500 (as SPX) in one schema, one row per ticker and day
-- owner: markets
-- key: [ticker, date]
-- latest_by: [_ingested_at, _landing_sha256, _line]
-- order_by: [ticker, date]
-- ---
-- Prices stay DECIMAL(18,4) from raw on: no float ever touches them.
-- The latest landing wins; within one landing (and between two landed at the same instant, by
-- their sha256) the last row in file order: the same input always gives the same data.
SELECT CAST(symbol AS VARCHAR) AS ticker, date, CAST(price AS DECIMAL(18,4)) AS close,
       _ingested_at, _landing_sha256, _line
  FROM raw.vega_stocks
UNION ALL
SELECT 'SPX' AS ticker, date, CAST(price AS DECIMAL(18,4)) AS close,
       _ingested_at, _landing_sha256, _line
  FROM raw.vega_sp500
