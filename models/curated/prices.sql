-- ---
-- description: Business-ready closes for the market report and the explorer
-- owner: markets
-- order_by: [ticker, date]
-- row_group_size: 10000
-- ---
-- Small row groups: a ticker's rows sit in few groups, so a filtered browser query reads little.
SELECT ticker, date, close FROM staging.prices
