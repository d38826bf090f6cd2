-- In-warehouse source data: the four RAW tables of the credit-risk world, made inside
-- Snowflake with GENERATOR, for runs of 10M-1B applications that never leave the account.
--
--   snow sql -f scripts/snowflake_generate.sql -D "n_applications=10000000" -c <connection>
--
-- then run everything after ingestion: kedro run --env snowflake --pipeline etl --from-nodes ...
-- (see README "Snowflake"). <% n_applications %> is Snowflake CLI templating: GENERATOR's
-- ROWCOUNT must be a constant, so the number is written into the text before it is sent.
--
-- The drift (docs/source_data.md "A world that drifts"), as the Python generator's
-- source_data.drift: pass each of its values with -D, e.g. no drift:
--   -D "drift_from_date=null" -D "default_risk_shift=0.75" -D "income_factor=0.75"
--   -D "new_loan_purpose=buy_now_pay_later" -D "new_loan_purpose_share=0.10"
-- or drift_from_date=2026-01-01: applications dated on or after it have their income
-- multiplied by income_factor (the loan amount is drawn from the income before the shock),
-- default_risk_shift added to their true risk's logit, and new_loan_purpose_share of them
-- the purpose new_loan_purpose (0 for none). Applicants, events and earlier applications
-- are drawn as without it.
--
-- Same tables, columns (all text, plus _SOURCE_FILE and _LOADED_AT), distributions, risk
-- formula and mess as the Python generator (docs/source_data.md), drawn with Snowflake's
-- random functions: the same world, not the same rows. Differences are listed at the end.
--
-- Fixed bugs of the public GENERATOR sample this follows:
--   * arrays are 0-based: an element is GET(arr, UNIFORM(0, ARRAY_SIZE(arr) - 1, RANDOM())),
--     never UNIFORM(1, ARRAY_SIZE(arr), ...), which skips the first element and returns
--     NULL past the last (::INT only states the index type; UNIFORM of integers is one);
--   * RANDOM() is a 64-bit integer, not a float in [0, 1): probabilities are
--     UNIFORM(0::float, 1::float, RANDOM()), never RANDOM() / <something>;
--   * SEQ8() may leave gaps: row numbers that must be dense (applicant numbers, which
--     applications draw from) come from ROW_NUMBER();
--   * a random value used twice is stored in a work table first, so both uses see one draw.
-- Work tables are TRANSIENT (no fail-safe storage) and dropped at the end.

-- ---- 1. applicants: 0.75 per application, latent risk z and noise u, stable attributes
CREATE OR REPLACE TRANSIENT TABLE CREDIT_RISK.RAW._GEN_APPLICANTS AS
WITH numbers AS (
    SELECT ROW_NUMBER() OVER (ORDER BY SEQ8()) - 1 AS N
    FROM TABLE(GENERATOR(ROWCOUNT => <% n_applications %>))
),
lists AS (
    SELECT
        ARRAY_CONSTRUCT('James', 'Mary', 'John', 'Patricia', 'Robert', 'Jennifer', 'Michael', 'Linda',
            'William', 'Elizabeth', 'David', 'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas',
            'Sarah', 'Charles', 'Karen', 'Christopher', 'Nancy', 'Daniel', 'Lisa', 'Matthew', 'Margaret',
            'Anthony', 'Betty', 'Mark', 'Sandra', 'Donald', 'Ashley', 'Steven', 'Emily', 'Paul', 'Donna',
            'Andrew', 'Michelle', 'Joshua', 'Carol', 'Kenneth', 'Amanda', 'Kevin', 'Melissa', 'Brian',
            'Deborah', 'George', 'Stephanie', 'Oliver', 'Amelia') AS FIRST_NAMES,
        ARRAY_CONSTRUCT('Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies',
            'Robinson', 'Wright', 'Thompson', 'Evans', 'Walker', 'White', 'Roberts', 'Green', 'Hall', 'Wood',
            'Jackson', 'Clarke', 'Patel', 'Khan', 'Lewis', 'James', 'Phillips', 'Mason', 'Mitchell', 'Rose',
            'Davis', 'Rodriguez', 'Cox', 'Alexander', 'Morgan', 'Moore', 'Martin', 'Price', 'Hughes',
            'Edwards', 'Turner', 'Hill', 'Cooper', 'Ward', 'Morris', 'King', 'Baker', 'Harris', 'Lee',
            'Allen', 'Scott', 'Young') AS LAST_NAMES,
        ARRAY_CONSTRUCT('Church', 'Station', 'Victoria', 'Park', 'London', 'Manor', 'Mill', 'Queens',
            'Kings', 'Alexandra', 'Albert', 'New', 'Grange', 'Springfield', 'Highfield', 'Windsor', 'York',
            'Stanley', 'Richmond', 'Chester', 'Broadway', 'Green', 'Meadow', 'Orchard', 'Bridge') AS STREETS,
        ARRAY_CONSTRUCT('London', 'Manchester', 'Birmingham', 'Leeds', 'Glasgow', 'Liverpool', 'Bristol',
            'Sheffield', 'Edinburgh', 'Cardiff', 'Leicester', 'Nottingham', 'Newcastle', 'Brighton',
            'Southampton', 'Belfast', 'Oxford', 'Cambridge', 'York', 'Aberdeen') AS CITIES
)
SELECT
    n.N,
    NORMAL(0, 1, RANDOM()) AS Z,                          -- latent risk: score, delinquencies, income...
    NORMAL(0, 0.8, RANDOM()) AS U,                        -- latent noise: in the risk formula only
    NORMAL(0, 0.45, RANDOM()) AS INCOME_NOISE,
    NORMAL(0, 30, RANDOM()) AS SCORE_NOISE,
    UNIFORM(7686, 27739, RANDOM()) AS AGE_DAYS,           -- 21 * 366 .. 76 * 365 - 1: age 21-75
    UNIFORM(0, 30, RANDOM()) AS ONBOARDING_DAYS,
    UNIFORM(25200, 43199, RANDOM()) AS ONBOARDING_SECOND, -- 07:00-12:00
    -- Gamma(2, 3.5) years of employment: a sum of two exponentials
    -3.5 * (LN(1 - UNIFORM(0::float, 1::float, RANDOM())) + LN(1 - UNIFORM(0::float, 1::float, RANDOM()))) AS EMPLOYMENT_DRAW,
    UNIFORM(0::float, 1::float, RANDOM()) AS PREVIOUS_DEFAULTS_DRAW,
    UNIFORM(0::float, 1::float, RANDOM()) AS GROUP_DRAW,   -- the simulated protected group (answer key only)
    GET(l.FIRST_NAMES, UNIFORM(0, ARRAY_SIZE(l.FIRST_NAMES) - 1, RANDOM())::INT)::VARCHAR AS FIRST_NAME,
    GET(l.LAST_NAMES, UNIFORM(0, ARRAY_SIZE(l.LAST_NAMES) - 1, RANDOM())::INT)::VARCHAR AS LAST_NAME,
    GET(l.STREETS, UNIFORM(0, ARRAY_SIZE(l.STREETS) - 1, RANDOM())::INT)::VARCHAR AS STREET,
    GET(l.CITIES, UNIFORM(0, ARRAY_SIZE(l.CITIES) - 1, RANDOM())::INT)::VARCHAR AS CITY,
    UNIFORM(0, 99999, RANDOM()) AS PHONE_NUMBER,
    UNIFORM(1, 249, RANDOM()) AS STREET_NUMBER
FROM numbers AS n
CROSS JOIN lists AS l
WHERE n.N < ROUND(0.75 * <% n_applications %>);

-- ---- 2. applications: each applicant has one, the rest go to random applicants
CREATE OR REPLACE TRANSIENT TABLE CREDIT_RISK.RAW._GEN_APPLICATIONS AS
WITH numbers AS (
    SELECT ROW_NUMBER() OVER (ORDER BY SEQ8()) - 1 AS N
    FROM TABLE(GENERATOR(ROWCOUNT => <% n_applications %>))
),
applicants AS (
    SELECT COUNT(*) AS NA FROM CREDIT_RISK.RAW._GEN_APPLICANTS
)
SELECT
    n.N,
    IFF(n.N < a.NA, n.N, FLOOR(UNIFORM(0::float, 1::float, RANDOM()) * a.NA)::INT) AS OWNER,
    DATEADD(day, UNIFORM(0, 2006, RANDOM()), '2021-01-01'::DATE) AS APPLICATION_DAY,  -- start_date .. as_of_date
    UNIFORM(43200, 79199, RANDOM()) AS CREATED_SECOND,                                 -- 12:00-22:00
    NORMAL(0, 0.05, RANDOM()) AS INCOME_JITTER,
    NORMAL(0, 10, RANDOM()) AS SCORE_JITTER,
    NORMAL(0, 0.55, RANDOM()) AS LOAN_NOISE,
    -- Gamma(4, 0.075): a sum of four exponentials
    -0.075 * (LN(1 - UNIFORM(0::float, 1::float, RANDOM())) + LN(1 - UNIFORM(0::float, 1::float, RANDOM()))
        + LN(1 - UNIFORM(0::float, 1::float, RANDOM())) + LN(1 - UNIFORM(0::float, 1::float, RANDOM()))) AS DTI_DRAW,
    NORMAL(0, 1, RANDOM()) AS CREDIT_LINES_DRAW,
    UNIFORM(0::float, 1::float, RANDOM()) AS TERM_DRAW,
    UNIFORM(0::float, 1::float, RANDOM()) AS PURPOSE_DRAW,
    UNIFORM(0::float, 1::float, RANDOM()) AS NEW_PURPOSE_DRAW,                         -- the drift's own draw
    UNIFORM(0::float, 1::float, RANDOM()) AS OUTCOME_DRAW,
    UNIFORM(0::float, 1::float, RANDOM()) AS OUT_OF_RANGE_DRAW
FROM numbers AS n
CROSS JOIN applicants AS a;

-- ---- 3. bureau events: Poisson processes over [2018-01-01, as_of_date] (3,103 days, 8.4928 years).
-- Candidates get a uniformly random owner and are kept with probability rate / candidate rate,
-- which gives each applicant exactly Poisson counts: inquiries 0.35 and new accounts 0.20 a
-- year; delinquencies exp(-2.2 + 0.9 z) a year, thinned from the rate at z = 3 (z above 3,
-- 0.13 % of applicants, is capped there). Candidates per application: 3 + 2 + 11.
CREATE OR REPLACE TRANSIENT TABLE CREDIT_RISK.RAW._GEN_EVENTS AS
WITH applicants AS (
    SELECT COUNT(*) AS NA FROM CREDIT_RISK.RAW._GEN_APPLICANTS
),
slots AS (
    SELECT ROW_NUMBER() OVER (ORDER BY SEQ8()) - 1 AS K FROM TABLE(GENERATOR(ROWCOUNT => 16))
),
kinds AS (
    -- candidates per application slot, and the rate per applicant over the window they stand for
    SELECT 'INQUIRY' AS EVENT_TYPE, 3 AS PER_APPLICATION, 0.35 * 8.4928 AS RATE
    UNION ALL SELECT 'NEW_ACCOUNT', 2, 0.20 * 8.4928
    UNION ALL SELECT 'DELINQUENCY', 11, EXP(-2.2 + 0.9 * 3) * 8.4928
),
candidates AS (
    SELECT
        k.EVENT_TYPE,
        k.RATE * a.NA / (k.PER_APPLICATION * <% n_applications %>) AS KEEP_PROBABILITY,
        FLOOR(UNIFORM(0::float, 1::float, RANDOM()) * a.NA)::INT AS OWNER,
        DATEADD(day, UNIFORM(0, 3102, RANDOM()), '2018-01-01'::DATE) AS EVENT_DAY,
        UNIFORM(0::float, 1::float, RANDOM()) AS KEEP_DRAW,
        UNIFORM(0::float, 1::float, RANDOM()) AS THIN_DRAW,
        NORMAL(0, 1, RANDOM()) AS AMOUNT_DRAW
    FROM TABLE(GENERATOR(ROWCOUNT => <% n_applications %>))
    CROSS JOIN kinds AS k
    CROSS JOIN applicants AS a
    JOIN slots AS s ON s.K < k.PER_APPLICATION
)
SELECT
    ROW_NUMBER() OVER (ORDER BY c.EVENT_DAY, c.OWNER) - 1 AS EVENT_N,
    c.OWNER,
    c.EVENT_TYPE,
    c.EVENT_DAY,
    CASE c.EVENT_TYPE
        WHEN 'DELINQUENCY' THEN ROUND(LEAST(GREATEST(EXP(LN(400) + 0.9 * c.AMOUNT_DRAW), 50), 5000), 2)
        WHEN 'NEW_ACCOUNT' THEN ROUND(LEAST(GREATEST(EXP(LN(3000) + 0.8 * c.AMOUNT_DRAW), 500), 25000), -2)
    END AS AMOUNT
FROM candidates AS c
JOIN CREDIT_RISK.RAW._GEN_APPLICANTS AS p ON p.N = c.OWNER
WHERE c.KEEP_DRAW < c.KEEP_PROBABILITY
  AND (c.EVENT_TYPE <> 'DELINQUENCY' OR c.THIN_DRAW < EXP(0.9 * (LEAST(p.Z, 3) - 3)));

-- ---- 4. every application's clean values, its true default probability and its outcome
CREATE OR REPLACE TRANSIENT TABLE CREDIT_RISK.RAW._GEN_SCORED AS
WITH firsts AS (
    SELECT OWNER, MIN(APPLICATION_DAY) AS FIRST_DAY FROM CREDIT_RISK.RAW._GEN_APPLICATIONS GROUP BY OWNER
),
delinquencies AS (
    -- DELINQUENCY events on [application_date - 365 days, application_date - 1 day]
    SELECT a.N, COUNT(e.EVENT_N) AS DELINQUENCIES_12M
    FROM CREDIT_RISK.RAW._GEN_APPLICATIONS AS a
    LEFT JOIN CREDIT_RISK.RAW._GEN_EVENTS AS e
      ON e.OWNER = a.OWNER
     AND e.EVENT_TYPE = 'DELINQUENCY'
     AND e.EVENT_DAY >= DATEADD(day, -365, a.APPLICATION_DAY)
     AND e.EVENT_DAY < a.APPLICATION_DAY
    GROUP BY a.N
),
valued AS (
    SELECT
        a.N,
        a.OWNER,
        a.APPLICATION_DAY,
        a.CREATED_SECOND,
        a.OUTCOME_DRAW,
        a.OUT_OF_RANGE_DRAW,
        p.U,
        -- the drift: applications dated on or after drift_from_date (none when it is null)
        COALESCE(a.APPLICATION_DAY >= TRY_TO_DATE('<% drift_from_date %>', 'YYYY-MM-DD'), FALSE) AS SHIFTED,
        f.FIRST_DAY,
        DATEADD(day, -p.AGE_DAYS, f.FIRST_DAY) AS BIRTH_DAY,
        a.NEW_PURPOSE_DRAW,
        EXP(LN(45000) - 0.10 * p.Z + p.INCOME_NOISE + a.INCOME_JITTER) AS INCOME_DRAW,
        LEAST(GREATEST(ROUND(690 - 65 * p.Z + p.SCORE_NOISE + a.SCORE_JITTER), 300), 850) AS CREDIT_SCORE,
        LEAST(GREATEST(LEAST(p.EMPLOYMENT_DRAW, GREATEST(p.AGE_DAYS / 365.25 - 18, 0))
            + DATEDIFF(day, f.FIRST_DAY, a.APPLICATION_DAY) / 365.25, 0), 40) AS EMPLOYMENT_YEARS,
        EXP(LN(0.20) + 0.10 * p.Z + a.LOAN_NOISE) AS LOAN_RATIO,
        ROUND(LEAST(GREATEST(a.DTI_DRAW + 0.05 * p.Z, 0), 1.5), 3) AS DEBT_TO_INCOME,
        LEAST(GREATEST(ROUND(6 + 1.5 * ABS(p.Z) + SQRT(6 + 1.5 * ABS(p.Z)) * a.CREDIT_LINES_DRAW), 0), 30) AS CREDIT_LINES,
        EXP(-2.3 + 0.9 * p.Z) AS PD_RATE,
        p.PREVIOUS_DEFAULTS_DRAW,
        CASE WHEN a.TERM_DRAW < 0.10 THEN 12 WHEN a.TERM_DRAW < 0.30 THEN 24 WHEN a.TERM_DRAW < 0.65 THEN 36
             WHEN a.TERM_DRAW < 0.80 THEN 48 ELSE 60 END AS LOAN_TERM_MONTHS,
        CASE WHEN a.PURPOSE_DRAW < 0.35 THEN 'debt_consolidation' WHEN a.PURPOSE_DRAW < 0.50 THEN 'home_improvement'
             WHEN a.PURPOSE_DRAW < 0.68 THEN 'car' WHEN a.PURPOSE_DRAW < 0.75 THEN 'education'
             WHEN a.PURPOSE_DRAW < 0.81 THEN 'medical' WHEN a.PURPOSE_DRAW < 0.88 THEN 'business'
             ELSE 'other' END AS USUAL_PURPOSE,
        d.DELINQUENCIES_12M,
        -- group B with probability sigmoid(-0.85 + 0.5 z), as the Python generator's
        IFF(p.GROUP_DRAW < 1 / (1 + EXP(-(-0.85 + 0.5 * p.Z))), 'B', 'A') AS PROTECTED_GROUP
    FROM CREDIT_RISK.RAW._GEN_APPLICATIONS AS a
    JOIN CREDIT_RISK.RAW._GEN_APPLICANTS AS p ON p.N = a.OWNER
    JOIN firsts AS f ON f.OWNER = a.OWNER
    JOIN delinquencies AS d ON d.N = a.N
),
rounded AS (
    SELECT
        v.*,
        -- the shock lowers the income, not the loan amount (drawn from the income before it)
        GREATEST(ROUND(v.INCOME_DRAW * IFF(v.SHIFTED, <% income_factor %>, 1), -2), 6000) AS INCOME,
        LEAST(GREATEST(ROUND(GREATEST(ROUND(v.INCOME_DRAW, -2), 6000) * v.LOAN_RATIO, -2), 1000), 60000) AS LOAN_AMOUNT,
        IFF(v.SHIFTED AND v.NEW_PURPOSE_DRAW < <% new_loan_purpose_share %>, '<% new_loan_purpose %>', v.USUAL_PURPOSE)
            AS LOAN_PURPOSE,
        -- Poisson(PD_RATE) capped at 5, by its inverse CDF
        CASE
            WHEN v.PREVIOUS_DEFAULTS_DRAW < EXP(-v.PD_RATE) THEN 0
            WHEN v.PREVIOUS_DEFAULTS_DRAW < EXP(-v.PD_RATE) * (1 + v.PD_RATE) THEN 1
            WHEN v.PREVIOUS_DEFAULTS_DRAW < EXP(-v.PD_RATE) * (1 + v.PD_RATE + POWER(v.PD_RATE, 2) / 2) THEN 2
            WHEN v.PREVIOUS_DEFAULTS_DRAW < EXP(-v.PD_RATE) * (1 + v.PD_RATE + POWER(v.PD_RATE, 2) / 2
                + POWER(v.PD_RATE, 3) / 6) THEN 3
            WHEN v.PREVIOUS_DEFAULTS_DRAW < EXP(-v.PD_RATE) * (1 + v.PD_RATE + POWER(v.PD_RATE, 2) / 2
                + POWER(v.PD_RATE, 3) / 6 + POWER(v.PD_RATE, 4) / 24) THEN 4
            ELSE 5
        END AS PREVIOUS_DEFAULTS,
        YEAR(v.APPLICATION_DAY) - YEAR(v.BIRTH_DAY)
            - IFF(MONTH(v.APPLICATION_DAY) * 32 + DAY(v.APPLICATION_DAY) < MONTH(v.BIRTH_DAY) * 32 + DAY(v.BIRTH_DAY), 1, 0) AS AGE
    FROM valued AS v
)
SELECT
    r.*,
    -- the risk formula of docs/source_data.md, on the values as written
    1 / (1 + EXP(-(-2.6 + (650 - r.CREDIT_SCORE) / 100 + 1.2 * r.DEBT_TO_INCOME + 0.55 * r.DELINQUENCIES_12M
        + r.LOAN_AMOUNT / r.INCOME + 0.45 * r.PREVIOUS_DEFAULTS + r.U
        + IFF(r.SHIFTED, <% default_risk_shift %>, 0)))) AS TRUE_DEFAULT_PROBABILITY,
    DATEADD(day, 365, r.APPLICATION_DAY) <= '2026-06-30'::DATE AS IS_MATURED
FROM rounded AS r;

-- ---- 5. the RAW tables: text as it lands, with the same mess as the landing files
CREATE OR REPLACE TABLE CREDIT_RISK.RAW.APPLICANTS AS
SELECT
    'A' || LPAD(p.N::VARCHAR, 9, '0') AS APPLICANT_ID,
    IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.01, NULL,
        IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.05,
            CASE MOD(p.N, 4) WHEN 0 THEN UPPER(p.FIRST_NAME) WHEN 1 THEN ' ' || p.FIRST_NAME
                 WHEN 2 THEN p.FIRST_NAME || '  ' ELSE ' ' || LOWER(p.FIRST_NAME) || '  ' END,
            p.FIRST_NAME)) AS FIRST_NAME,
    IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.01, NULL,
        IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.05,
            CASE MOD(p.N, 4) WHEN 0 THEN UPPER(p.LAST_NAME) WHEN 1 THEN ' ' || p.LAST_NAME
                 WHEN 2 THEN p.LAST_NAME || '  ' ELSE ' ' || LOWER(p.LAST_NAME) || '  ' END,
            p.LAST_NAME)) AS LAST_NAME,
    IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.01, NULL,
        IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.05,
            UPPER(LOWER(p.FIRST_NAME) || '.' || LOWER(p.LAST_NAME) || '.' || p.N::VARCHAR || '@example.com'),
            LOWER(p.FIRST_NAME) || '.' || LOWER(p.LAST_NAME) || '.' || p.N::VARCHAR || '@example.com')) AS EMAIL,
    IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.01, NULL,
        '+44 7700 9' || LPAD(p.PHONE_NUMBER::VARCHAR, 5, '0')) AS PHONE,
    IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.01, NULL,
        p.STREET_NUMBER::VARCHAR || ' ' || p.STREET || ' Road, ' || p.CITY) AS ADDRESS,
    IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.005,
        GET(ARRAY_CONSTRUCT('2024-13-45', '31/02/2024', 'not a date'), UNIFORM(0, 2, RANDOM())::INT)::VARCHAR,
        IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.01, NULL,
            TO_VARCHAR(DATEADD(day, -p.AGE_DAYS, f.FIRST_DAY), 'YYYY-MM-DD'))) AS DATE_OF_BIRTH,
    IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.01, NULL,
        TO_VARCHAR(DATEADD(second, p.ONBOARDING_SECOND,
            DATEADD(day, -p.ONBOARDING_DAYS, f.FIRST_DAY)::TIMESTAMP_NTZ), 'YYYY-MM-DD HH24:MI:SS')) AS CREATED_AT,
    'warehouse-generator' AS _SOURCE_FILE,
    CURRENT_TIMESTAMP() AS _LOADED_AT
FROM CREDIT_RISK.RAW._GEN_APPLICANTS AS p
JOIN (SELECT OWNER, MIN(APPLICATION_DAY) AS FIRST_DAY FROM CREDIT_RISK.RAW._GEN_APPLICATIONS GROUP BY OWNER) AS f
  ON f.OWNER = p.N;

CREATE OR REPLACE TABLE CREDIT_RISK.RAW.APPLICATIONS AS
SELECT
    'L' || LPAD(s.N::VARCHAR, 10, '0') AS APPLICATION_ID,
    'A' || LPAD(s.OWNER::VARCHAR, 9, '0') AS APPLICANT_ID,
    IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.005,
        GET(ARRAY_CONSTRUCT('2024-13-45', '31/02/2024', 'not a date'), UNIFORM(0, 2, RANDOM())::INT)::VARCHAR,
        IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.01, NULL, TO_VARCHAR(s.APPLICATION_DAY, 'YYYY-MM-DD'))) AS APPLICATION_DATE,
    CASE WHEN s.OUT_OF_RANGE_DRAW < 0.005 AND MOD(s.N, 5) = 0 THEN '250'
         WHEN s.OUT_OF_RANGE_DRAW < 0.005 AND MOD(s.N, 5) = 1 THEN '-1'
         WHEN UNIFORM(0::float, 1::float, RANDOM()) < 0.01 THEN NULL
         ELSE s.AGE::VARCHAR END AS AGE,
    CASE WHEN s.OUT_OF_RANGE_DRAW < 0.005 AND MOD(s.N, 5) = 4 THEN (-s.INCOME)::INT::VARCHAR
         WHEN UNIFORM(0::float, 1::float, RANDOM()) < 0.01 THEN NULL
         ELSE s.INCOME::INT::VARCHAR END AS INCOME,
    CASE WHEN s.OUT_OF_RANGE_DRAW < 0.005 AND MOD(s.N, 5) = 2 THEN '9999'
         WHEN UNIFORM(0::float, 1::float, RANDOM()) < 0.01 THEN NULL
         ELSE s.CREDIT_SCORE::INT::VARCHAR END AS CREDIT_SCORE,
    IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.01, NULL,
        TO_VARCHAR(ROUND(s.EMPLOYMENT_YEARS, 1)::NUMBER(4, 1))) AS EMPLOYMENT_LENGTH,
    IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.01, NULL, s.LOAN_AMOUNT::INT::VARCHAR) AS LOAN_AMOUNT,
    IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.01, NULL, s.LOAN_TERM_MONTHS::VARCHAR) AS LOAN_TERM_MONTHS,
    CASE WHEN s.OUT_OF_RANGE_DRAW < 0.005 AND MOD(s.N, 5) = 3 THEN '-0.5'
         WHEN UNIFORM(0::float, 1::float, RANDOM()) < 0.01 THEN NULL
         ELSE TO_VARCHAR(s.DEBT_TO_INCOME::NUMBER(5, 3)) END AS DEBT_TO_INCOME,
    IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.01, NULL, s.CREDIT_LINES::INT::VARCHAR) AS NUMBER_OF_CREDIT_LINES,
    IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.01, NULL, s.PREVIOUS_DEFAULTS::VARCHAR) AS PREVIOUS_DEFAULTS,
    IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.01, NULL,
        IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.05,
            CASE MOD(s.N, 4) WHEN 0 THEN UPPER(s.LOAN_PURPOSE) WHEN 1 THEN ' ' || s.LOAN_PURPOSE
                 WHEN 2 THEN s.LOAN_PURPOSE || '  ' ELSE ' ' || UPPER(s.LOAN_PURPOSE) || '  ' END,
            s.LOAN_PURPOSE)) AS LOAN_PURPOSE,
    IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.01, NULL,
        TO_VARCHAR(DATEADD(second, s.CREATED_SECOND, s.APPLICATION_DAY::TIMESTAMP_NTZ), 'YYYY-MM-DD HH24:MI:SS')) AS CREATED_AT,
    'warehouse-generator' AS _SOURCE_FILE,
    CURRENT_TIMESTAMP() AS _LOADED_AT
FROM CREDIT_RISK.RAW._GEN_SCORED AS s;

CREATE OR REPLACE TABLE CREDIT_RISK.RAW.BUREAU_EVENTS AS
SELECT
    'E' || LPAD(e.EVENT_N::VARCHAR, 11, '0') AS EVENT_ID,
    'A' || LPAD(e.OWNER::VARCHAR, 9, '0') AS APPLICANT_ID,
    IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.005,
        GET(ARRAY_CONSTRUCT('2024-13-45', '31/02/2024', 'not a date'), UNIFORM(0, 2, RANDOM())::INT)::VARCHAR,
        IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.01, NULL, TO_VARCHAR(e.EVENT_DAY, 'YYYY-MM-DD'))) AS EVENT_DATE,
    IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.01, NULL,
        IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.05,
            CASE MOD(e.EVENT_N, 4) WHEN 0 THEN LOWER(e.EVENT_TYPE) WHEN 1 THEN ' ' || e.EVENT_TYPE
                 WHEN 2 THEN e.EVENT_TYPE || '  ' ELSE ' ' || LOWER(e.EVENT_TYPE) || '  ' END,
            e.EVENT_TYPE)) AS EVENT_TYPE,
    IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.01, NULL, TO_VARCHAR(e.AMOUNT::NUMBER(12, 2))) AS AMOUNT,
    'warehouse-generator' AS _SOURCE_FILE,
    CURRENT_TIMESTAMP() AS _LOADED_AT
FROM CREDIT_RISK.RAW._GEN_EVENTS AS e;

CREATE OR REPLACE TABLE CREDIT_RISK.RAW.LOAN_OUTCOMES AS
SELECT
    'L' || LPAD(s.N::VARCHAR, 10, '0') AS APPLICATION_ID,
    IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.005,
        GET(ARRAY_CONSTRUCT('2024-13-45', '31/02/2024', 'not a date'), UNIFORM(0, 2, RANDOM())::INT)::VARCHAR,
        IFF(UNIFORM(0::float, 1::float, RANDOM()) < 0.01, NULL,
            TO_VARCHAR(DATEADD(day, 365, s.APPLICATION_DAY), 'YYYY-MM-DD'))) AS OBSERVED_AT,
    CASE WHEN UNIFORM(0::float, 1::float, RANDOM()) < 0.01 THEN NULL
         WHEN UNIFORM(0::float, 1::float, RANDOM()) < 0.05 THEN
             CASE MOD(s.N, 3)
                 WHEN 0 THEN IFF(s.OUTCOME_DRAW < s.TRUE_DEFAULT_PROBABILITY, 'Y', 'N')
                 WHEN 1 THEN IFF(s.OUTCOME_DRAW < s.TRUE_DEFAULT_PROBABILITY, 'true', 'false')
                 ELSE IFF(s.OUTCOME_DRAW < s.TRUE_DEFAULT_PROBABILITY, 'True', 'False') END
         ELSE IFF(s.OUTCOME_DRAW < s.TRUE_DEFAULT_PROBABILITY, '1', '0') END AS DEFAULTED,
    'warehouse-generator' AS _SOURCE_FILE,
    CURRENT_TIMESTAMP() AS _LOADED_AT
FROM CREDIT_RISK.RAW._GEN_SCORED AS s
WHERE s.IS_MATURED;

-- The answer key (true default probabilities, the simulated protected group), as the Python
-- generator's generator_truth.
CREATE OR REPLACE TABLE CREDIT_RISK.RAW.GENERATOR_TRUTH AS
SELECT
    'L' || LPAD(N::VARCHAR, 10, '0') AS APPLICATION_ID,
    TRUE_DEFAULT_PROBABILITY,
    IS_MATURED,
    PROTECTED_GROUP,
    IFF(IS_MATURED, IFF(OUTCOME_DRAW < TRUE_DEFAULT_PROBABILITY, 1, 0), NULL) AS DEFAULTED
FROM CREDIT_RISK.RAW._GEN_SCORED;

-- ---- 6. duplicates (1 % of rows, copies of whole rows, mess included) and orphan events
INSERT INTO CREDIT_RISK.RAW.APPLICANTS
SELECT * FROM CREDIT_RISK.RAW.APPLICANTS WHERE UNIFORM(0::float, 1::float, RANDOM()) < 0.01;

INSERT INTO CREDIT_RISK.RAW.APPLICATIONS
SELECT * FROM CREDIT_RISK.RAW.APPLICATIONS WHERE UNIFORM(0::float, 1::float, RANDOM()) < 0.01;

INSERT INTO CREDIT_RISK.RAW.BUREAU_EVENTS
SELECT * FROM CREDIT_RISK.RAW.BUREAU_EVENTS WHERE UNIFORM(0::float, 1::float, RANDOM()) < 0.01;

-- 0.5 % extra events of applicants that do not exist (A999xxxxxx)
INSERT INTO CREDIT_RISK.RAW.BUREAU_EVENTS
SELECT
    'E9' || LPAD(e.EVENT_N::VARCHAR, 10, '0') AS EVENT_ID,
    'A999' || LPAD(UNIFORM(0, 999999, RANDOM())::VARCHAR, 6, '0') AS APPLICANT_ID,
    TO_VARCHAR(e.EVENT_DAY, 'YYYY-MM-DD') AS EVENT_DATE,
    e.EVENT_TYPE,
    TO_VARCHAR(e.AMOUNT::NUMBER(12, 2)) AS AMOUNT,
    'warehouse-generator' AS _SOURCE_FILE,
    CURRENT_TIMESTAMP() AS _LOADED_AT
FROM CREDIT_RISK.RAW._GEN_EVENTS AS e
WHERE UNIFORM(0::float, 1::float, RANDOM()) < 0.005;

DROP TABLE IF EXISTS CREDIT_RISK.RAW._GEN_SCORED;
DROP TABLE IF EXISTS CREDIT_RISK.RAW._GEN_EVENTS;
DROP TABLE IF EXISTS CREDIT_RISK.RAW._GEN_APPLICATIONS;
DROP TABLE IF EXISTS CREDIT_RISK.RAW._GEN_APPLICANTS;

-- Differences from the Python generator, all on purpose or harmless:
--   * random draws differ (Snowflake's RANDOM, unseeded): the same distributions, not the same rows;
--   * an applicant may (rarely) apply twice on one day; credit lines use a normal
--     approximation of Poisson(6 + 1.5 |z|), rounded and clipped to 0-30;
--   * rows are not written in date order (a table has no order); event ids follow date order;
--   * orphan event ids start with E9 (outside the real ids), the Python ones follow on.
--   * no land_date: this writes the RAW tables of the whole period, not a day's landing files.
