-- ---
-- description: Closes of every ticker and of the S&P 500 (as SPX) in one schema, one row per ticker and day
-- owner: markets
-- key: [ticker, date]
-- latest_by: _ingested_at
-- order_by: [ticker, date]
-- ---
-- Prices stay DECIMAL(18,4) from raw on: no float ever touches them.
SELECT CAST(symbol AS VARCHAR) AS ticker, date, CAST(price AS DECIMAL(18,4)) AS close, _ingested_at
  FROM raw.vega_stocks
UNION ALL
SELECT 'SPX' AS ticker, date, CAST(price AS DECIMAL(18,4)) AS close, _ingested_at
  FROM raw.vega_sp500
